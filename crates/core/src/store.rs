//! The local copy of the bell list (rusqlite, WAL, versioned migrations).
//!
//! Design, and why:
//! - **Dedupe by server id** (MW-4). Upserts merge read state and never make a read item unread, so a
//!   late re-send of an old copy is harmless.
//! - **Read watermarks.** "Mark all as read" over 50,000 items must not rewrite 50,000 rows while the
//!   agent waits (that costs ~100 ms in SQLite). Each category has a watermark `upto_seq`: every item
//!   with a local `seq` at or below it is read. A scoped mark-all (NC-R6) moves the watermarks of the
//!   scope's categories to the newest `seq`, which is O(categories) and touches nothing outside the
//!   scope. Items arriving later get higher `seq`s, so they stay unread. [`Store::compact_read_marks`]
//!   later writes `read_at` into the covered rows in small batches, so that the unread-only indexes
//!   stay short; until then queries consult the watermark and the answer is the same.
//! - **Maintained unread counters** per category, updated in the same transaction as every change,
//!   so that refreshing the badge and tab counts is a read of ten rows (NC-R14).
//! - **Keyset pagination** on `(created_at, id)`; every list query names its index (`INDEXED BY`), so
//!   a planner change can never turn a page into a scan (a test checks the plans).
//! - **Durability.** `synchronous=FULL`: the outbox of offline actions (MW-6) must survive a power
//!   cut; writes are batched, so this costs one fsync per batch. Items and the sync cursor are
//!   committed in one transaction, so a client killed mid-sync resumes exactly where it stopped.
//! - **Nothing is lost.** Items that fail validation are kept in `quarantine` with the reason.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::model::{Category, Kind, Notification, Params, Tab};
use crate::rules;

/// `PRAGMA application_id` of a Lonceng database ("LNCG").
const APPLICATION_ID: i32 = 0x4C4E_4347;

/// Schema migrations; `PRAGMA user_version` is the number applied. Append only.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE notifications (
    seq          INTEGER PRIMARY KEY,      -- local arrival order; read watermarks refer to it
    id           TEXT NOT NULL UNIQUE,     -- the server's id: the dedupe key
    tab          INTEGER NOT NULL,
    category     INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    params       TEXT NOT NULL,            -- JSON object; text is rendered at display time
    actor_id     TEXT,
    recipient_id TEXT NOT NULL,
    url          TEXT NOT NULL,
    created_at   INTEGER NOT NULL,         -- Unix ms, UTC
    read_at      INTEGER,                  -- Unix ms, UTC; NULL: unread unless under a watermark
    arrived_at   INTEGER NOT NULL
);
CREATE INDEX notif_tab ON notifications (tab, created_at DESC, id DESC);
CREATE INDEX notif_category ON notifications (category, created_at DESC, id DESC);
CREATE INDEX notif_tab_unread ON notifications (tab, created_at DESC, id DESC) WHERE read_at IS NULL;
CREATE INDEX notif_category_unread ON notifications (category, created_at DESC, id DESC)
    WHERE read_at IS NULL;

CREATE TABLE read_marks (
    category INTEGER PRIMARY KEY,
    upto_seq INTEGER NOT NULL,
    read_at  INTEGER NOT NULL
);
CREATE TABLE unread_counts (
    category INTEGER PRIMARY KEY,
    n        INTEGER NOT NULL
);
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    raw         TEXT NOT NULL,
    error       TEXT NOT NULL
);
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    op              TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    r#"
-- v2: an action can be held back (a mark-all during its undo window).
ALTER TABLE outbox ADD COLUMN available_at INTEGER NOT NULL DEFAULT 0;
"#,
];

/// How long a mark-all waits before it goes to the server, so that Undo can still take it back.
pub const UNDO_WINDOW: chrono::Duration = chrono::Duration::seconds(10);

/// The sync state key of the server cursor; recorded with offline mark-all actions so that the
/// server marks exactly what the agent saw.
pub const CURSOR_KEY: &str = "cursor";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the notification database {}: {source}", path.display())]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "{} is damaged or is not a database. It holds only a copy of what the server keeps: quit \
         Lonceng, move the file away, and start Lonceng again to download your notifications anew.",
        path.display()
    )]
    Corrupt { path: PathBuf },
    #[error(
        "{} belongs to another program (SQLite application id {found:#x}); Lonceng leaves it alone. \
         Choose another data file for Lonceng.",
        path.display()
    )]
    NotLonceng { path: PathBuf, found: i32 },
    #[error(
        "{} was written by a newer Lonceng (schema {found}; this version knows up to {supported}). \
         Update Lonceng, or move the file away to start afresh from the server.",
        path.display()
    )]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    #[error("notification database {}: {source}", path.display())]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("stored notification '{id}' cannot be read back: {detail}")]
    Decode { id: String, detail: String },
    #[error("no notification with id '{0}'")]
    NotFound(String),
    #[error("category '{category}' is not in tab '{tab}'")]
    CategoryNotInTab { tab: Tab, category: Category },
}

/// What a list shows: a tab, optionally one category chip, optionally unread only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub tab: Tab,
    pub category: Option<Category>,
}

impl Scope {
    pub fn new(tab: Tab, category: Option<Category>) -> Result<Scope, StoreError> {
        match category {
            Some(c) if c.tab() != tab => Err(StoreError::CategoryNotInTab { tab, category: c }),
            _ => Ok(Scope { tab, category }),
        }
    }

    pub fn categories(&self) -> Vec<Category> {
        match self.category {
            Some(c) => vec![c],
            None => self.tab.categories().to_vec(),
        }
    }
}

/// The position after the last item of a page (keyset pagination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    pub created_at: DateTime<Utc>,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub scope: Scope,
    pub unread_only: bool,
    pub after: Option<PageCursor>,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<Notification>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
}

/// Unread counts per category (NC-R14: the badge is their total).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnreadCounts {
    per_category: Vec<(Category, u64)>,
}

impl UnreadCounts {
    pub fn category(&self, c: Category) -> u64 {
        self.per_category.iter().find(|(k, _)| *k == c).map_or(0, |(_, n)| *n)
    }
    pub fn tab(&self, t: Tab) -> u64 {
        t.categories().iter().map(|c| self.category(*c)).sum()
    }
    pub fn scope(&self, s: &Scope) -> u64 {
        s.categories().iter().map(|c| self.category(*c)).sum()
    }
    pub fn total(&self) -> u64 {
        self.per_category.iter().map(|(_, n)| n).sum()
    }
}

/// A read state reported by the server: read on another device (NC-R13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRead {
    pub id: String,
    pub read_at: DateTime<Utc>,
}

/// An item from the wire that failed validation: kept, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub raw: String,
    pub error: String,
}

/// One unit of synchronisation, applied atomically: if the process dies, either all of it (cursor
/// included) is stored or none of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub items: Vec<Notification>,
    pub reads: Vec<RemoteRead>,
    /// Ids the server expired (NC-R5).
    pub expired: Vec<String>,
    pub rejected: Vec<Rejected>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Ids stored for the first time.
    pub inserted: Vec<String>,
    /// Ids that were unread and are now read (their toasts should be withdrawn).
    pub newly_read: Vec<String>,
    /// Re-sent items already known, with nothing new (MW-4).
    pub duplicates: usize,
    /// Items past their tab's retention on arrival, not stored (NC-R5).
    pub expired: usize,
    /// Stored items removed because the server expired them.
    pub removed: usize,
    pub quarantined: usize,
}

/// What a scoped mark-all changed (NC-R6): exactly the previously unread items of these categories
/// with `seq <= upto_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarkAllReport {
    pub scope: Scope,
    pub upto_seq: i64,
    pub changed: u64,
    pub per_category: Vec<(Category, u64)>,
    /// For undo: each changed category's watermark before, and when this happened.
    pub previous: Vec<(Category, i64, i64)>,
    pub at: DateTime<Utc>,
    /// The queued server action, while it can still be withdrawn.
    pub outbox_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub removed: u64,
    pub removed_unread: u64,
}

/// An action taken on this device, waiting to reach the server (MW-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OutboxOp {
    MarkRead {
        id: String,
        at: DateTime<Utc>,
    },
    MarkAllRead {
        tab: Tab,
        category: Option<Category>,
        /// The server cursor when the agent clicked: the server marks nothing newer.
        upto_cursor: Option<String>,
        /// The local watermark it set: which stored items it covered.
        upto_seq: i64,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub idempotency_key: String,
    pub op: OutboxOp,
    pub attempts: u32,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedItem {
    pub received_at: DateTime<Utc>,
    pub raw: String,
    pub error: String,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// `upto_seq` per category, by `Category::code() - 1`; mirrors `read_marks`.
    marks: Vec<i64>,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

fn idx(c: Category) -> usize {
    (c.code() - 1) as usize
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn =
            Connection::open(&path).map_err(|source| StoreError::Open { path: path.clone(), source })?;
        Store::init(conn, path)
    }

    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn =
            Connection::open_in_memory().map_err(|source| StoreError::Open { path: path.clone(), source })?;
        Store::init(conn, path)
    }

    fn init(conn: Connection, path: PathBuf) -> Result<Store, StoreError> {
        let mut store = Store { conn, path, marks: vec![0; Category::ALL.len()] };
        store.check_identity()?;
        store.configure()?;
        store.migrate()?;
        store.load_marks()?;
        Ok(store)
    }

    /// Classifies SQLite errors: damage is reported with the file and what to do.
    fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, e)
    }

    fn check_identity(&self) -> Result<(), StoreError> {
        let app_id: i32 =
            self.conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(|e| self.err(e))?;
        let version = self.user_version()?;
        let tables: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if app_id != APPLICATION_ID && (app_id != 0 || version != 0 || tables != 0) {
            return Err(StoreError::NotLonceng { path: self.path.clone(), found: app_id });
        }
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::NewerSchema { path: self.path.clone(), found: version, supported });
        }
        Ok(())
    }

    fn user_version(&self) -> Result<i64, StoreError> {
        self.conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| self.err(e))
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; \
                 PRAGMA cache_size = -16384;",
            )
            .map_err(|e| self.err(e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let from = self.user_version()? as usize;
        let path = self.path.clone();
        let sql = |e: rusqlite::Error| classify(&path, e);
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(from) {
            let version = i + 1;
            let tx = self.conn.transaction().map_err(sql)?;
            tx.execute_batch(migration).map_err(sql)?;
            if version == 1 {
                // Every category has a watermark and a counter row from the start.
                for c in Category::ALL {
                    tx.execute("INSERT INTO read_marks VALUES (?1, 0, 0)", [c.code()]).map_err(sql)?;
                    tx.execute("INSERT INTO unread_counts VALUES (?1, 0)", [c.code()]).map_err(sql)?;
                }
            }
            // Both pragmas live in the file header and commit with the transaction.
            tx.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {version};"
            ))
            .map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        Ok(())
    }

    fn load_marks(&mut self) -> Result<(), StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT category, upto_seq FROM read_marks").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        drop(stmt);
        for (code, upto) in rows {
            if let Some(c) = Category::from_code(code) {
                self.marks[idx(c)] = upto;
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores new items and merges re-sent ones; shorthand for [`Store::apply`] with items only.
    pub fn upsert(&mut self, items: &[Notification], now: DateTime<Utc>) -> Result<ApplyReport, StoreError> {
        self.apply(&Batch { items: items.to_vec(), ..Batch::default() }, now)
    }

    /// Applies one sync batch in one transaction.
    pub fn apply(&mut self, batch: &Batch, now: DateTime<Utc>) -> Result<ApplyReport, StoreError> {
        let path = self.path.clone();
        let marks = self.marks.clone();
        let sql = |e: rusqlite::Error| classify(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        let mut report = ApplyReport::default();
        let mut delta = vec![0i64; Category::ALL.len()];
        {
            let mut find = tx
                .prepare_cached("SELECT seq, category, read_at FROM notifications WHERE id = ?1")
                .map_err(sql)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO notifications (id, tab, category, kind, params, actor_id, recipient_id, \
                     url, created_at, read_at, arrived_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                )
                .map_err(sql)?;
            let mut set_read =
                tx.prepare_cached("UPDATE notifications SET read_at = ?2 WHERE seq = ?1").map_err(sql)?;

            for n in &batch.items {
                if rules::is_expired(n.tab(), n.created_at, now) {
                    report.expired += 1;
                    continue;
                }
                if let Some(row) = lookup(&mut find, &n.id).map_err(sql)? {
                    let became_read = match n.read_at {
                        Some(at) => {
                            merge_read(&mut set_read, &marks, row, ms(at), &mut delta).map_err(sql)?
                        }
                        None => false,
                    };
                    if became_read {
                        report.newly_read.push(n.id.clone());
                    } else {
                        report.duplicates += 1;
                    }
                    continue;
                }
                let params_json = serde_json::to_string(&n.params).unwrap_or_else(|_| "{}".into());
                insert
                    .execute(params![
                        n.id,
                        n.tab().code(),
                        n.category.code(),
                        n.kind.as_str(),
                        params_json,
                        n.actor_id,
                        n.recipient_id,
                        n.url,
                        ms(n.created_at),
                        n.read_at.map(ms),
                        ms(now),
                    ])
                    .map_err(sql)?;
                if n.read_at.is_none() {
                    delta[idx(n.category)] += 1;
                }
                report.inserted.push(n.id.clone());
            }
            for r in &batch.reads {
                if let Some(row) = lookup(&mut find, &r.id).map_err(sql)? {
                    if merge_read(&mut set_read, &marks, row, ms(r.read_at), &mut delta).map_err(sql)? {
                        report.newly_read.push(r.id.clone());
                    }
                }
            }
            let mut remove = tx
                .prepare_cached("DELETE FROM notifications WHERE id = ?1 RETURNING seq, category, read_at")
                .map_err(sql)?;
            for id in &batch.expired {
                let gone = remove
                    .query_row([id], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<i64>>(2)?))
                    })
                    .optional()
                    .map_err(sql)?;
                if let Some((seq, code, read_at)) = gone {
                    if let Some(c) = Category::from_code(code) {
                        if read_at.is_none() && seq > marks[idx(c)] {
                            delta[idx(c)] -= 1;
                        }
                    }
                    report.removed += 1;
                }
            }
            let mut keep = tx
                .prepare_cached("INSERT INTO quarantine (received_at, raw, error) VALUES (?1, ?2, ?3)")
                .map_err(sql)?;
            for r in &batch.rejected {
                keep.execute(params![ms(now), r.raw, r.error]).map_err(sql)?;
                report.quarantined += 1;
            }
            write_counts(&tx, &delta).map_err(sql)?;
            if let Some(cursor) = &batch.cursor {
                set_state(&tx, CURSOR_KEY, cursor).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        Ok(report)
    }

    /// One page of a tab (and optionally a category), newest first.
    pub fn page(&self, q: &ListQuery) -> Result<Page, StoreError> {
        let (sql, key) = page_sql(q);
        let limit = q.limit.clamp(1, 500) as i64;
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = match &q.after {
            Some(c) => stmt.query(params![key, limit, ms(c.created_at), c.id]),
            None => stmt.query(params![key, limit]),
        }
        .map_err(|e| self.err(e))?;
        let items = collect_rows(rows)
            .map_err(|e| self.err(e))?
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        let next = (items.len() as i64 == limit)
            .then(|| items.last().map(|n| PageCursor { created_at: n.created_at, id: n.id.clone() }))
            .flatten();
        Ok(Page { items, next })
    }

    /// One notification by id, with its effective read state.
    pub fn get(&self, id: &str) -> Result<Option<Notification>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM notifications n WHERE n.id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt.query([id]).map_err(|e| self.err(e))?;
        collect_rows(rows).map_err(|e| self.err(e))?.into_iter().next().map(decode).transpose()
    }

    /// How many notifications are stored.
    pub fn len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM notifications", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n.max(0) as u64)
    }

    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    pub fn unread_counts(&self) -> Result<UnreadCounts, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT category, n FROM unread_counts").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        let per_category = rows
            .into_iter()
            .filter_map(|(code, n)| Category::from_code(code).map(|c| (c, n.max(0) as u64)))
            .collect();
        Ok(UnreadCounts { per_category })
    }

    /// NC-R8 / NC-R7: the agent marks one item read on this device. Queues the action for the server
    /// in the same transaction (MW-6). Returns whether the item was unread.
    pub fn mark_read(&mut self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let sql = |e: rusqlite::Error| classify(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        let row = tx
            .query_row("SELECT seq, category, read_at FROM notifications WHERE id = ?1", [id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<i64>>(2)?))
            })
            .optional()
            .map_err(sql)?;
        let Some((seq, code, read_at)) = row else { return Err(StoreError::NotFound(id.to_owned())) };
        let Some(c) = Category::from_code(code) else {
            return Err(StoreError::Decode { id: id.to_owned(), detail: format!("category code {code}") });
        };
        if read_at.is_some() || seq <= self.marks[idx(c)] {
            return Ok(false);
        }
        tx.execute("UPDATE notifications SET read_at = ?2 WHERE seq = ?1", params![seq, ms(at)])
            .map_err(sql)?;
        let mut delta = vec![0; Category::ALL.len()];
        delta[idx(c)] = -1;
        write_counts(&tx, &delta).map_err(sql)?;
        enqueue(&tx, &format!("read:{id}"), &OutboxOp::MarkRead { id: id.to_owned(), at }, at, at)
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(true)
    }

    /// NC-R6: marks read exactly the unread items of the scope that this device has; nothing outside
    /// the scope, and nothing that arrives afterwards. Queues the action for the server (MW-6).
    pub fn mark_all_read(&mut self, scope: Scope, at: DateTime<Utc>) -> Result<MarkAllReport, StoreError> {
        let path = self.path.clone();
        let sql = |e: rusqlite::Error| classify(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        let upto: i64 =
            tx.query_row("SELECT coalesce(max(seq), 0) FROM notifications", [], |r| r.get(0)).map_err(sql)?;
        let mut per_category = Vec::new();
        let mut previous = Vec::new();
        let mut new_marks = self.marks.clone();
        for c in scope.categories() {
            let n: i64 = tx
                .query_row("SELECT n FROM unread_counts WHERE category = ?1", [c.code()], |r| r.get(0))
                .map_err(sql)?;
            if n <= 0 {
                continue;
            }
            let (prev_upto, prev_at): (i64, i64) = tx
                .query_row("SELECT upto_seq, read_at FROM read_marks WHERE category = ?1", [c.code()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(sql)?;
            previous.push((c, prev_upto, prev_at));
            tx.execute(
                "UPDATE read_marks SET upto_seq = ?2, read_at = ?3 WHERE category = ?1",
                params![c.code(), upto, ms(at)],
            )
            .map_err(sql)?;
            tx.execute("UPDATE unread_counts SET n = 0 WHERE category = ?1", [c.code()]).map_err(sql)?;
            new_marks[idx(c)] = upto;
            per_category.push((c, n as u64));
        }
        let changed = per_category.iter().map(|(_, n)| n).sum();
        let mut outbox_key = None;
        if changed > 0 {
            let cursor = get_state(&tx, CURSOR_KEY).map_err(sql)?;
            let key = format!(
                "read-all:{}:{}:{upto}:{}",
                scope.tab,
                scope.category.map_or("all", |c| c.as_str()),
                ms(at)
            );
            let op = OutboxOp::MarkAllRead {
                tab: scope.tab,
                category: scope.category,
                upto_cursor: cursor,
                upto_seq: upto,
                at,
            };
            enqueue(&tx, &key, &op, at, at + UNDO_WINDOW).map_err(sql)?;
            outbox_key = Some(key);
        }
        tx.commit().map_err(sql)?;
        self.marks = new_marks;
        Ok(MarkAllReport { scope, upto_seq: upto, changed, per_category, previous, at, outbox_key })
    }

    /// Takes a mark-all back (the window's Undo) within [`UNDO_WINDOW`], while its action has not
    /// left for the server. Compaction leaves a mark alone during that window, so undoing is only
    /// moving the watermark back. Categories whose marks moved since (another mark-all) keep the
    /// newer state. Returns whether anything was undone.
    pub fn undo_mark_all(&mut self, report: &MarkAllReport, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let sql = |e: rusqlite::Error| classify(&path, e);
        let Some(key) = &report.outbox_key else { return Ok(false) };
        if now - report.at > UNDO_WINDOW {
            return Ok(false);
        }
        let tx = self.conn.transaction().map_err(sql)?;
        if tx.execute("DELETE FROM outbox WHERE idempotency_key = ?1", [key]).map_err(sql)? == 0 {
            return Ok(false); // already sent
        }
        let mut restored = Vec::new();
        for (c, prev_upto, prev_at) in &report.previous {
            let current: i64 = tx
                .query_row("SELECT upto_seq FROM read_marks WHERE category = ?1", [c.code()], |r| r.get(0))
                .map_err(sql)?;
            if current != report.upto_seq {
                continue;
            }
            tx.execute(
                "UPDATE read_marks SET upto_seq = ?2, read_at = ?3 WHERE category = ?1",
                params![c.code(), prev_upto, prev_at],
            )
            .map_err(sql)?;
            tx.execute(
                "UPDATE unread_counts SET n = (SELECT count(*) FROM notifications \
                 WHERE category = ?1 AND read_at IS NULL AND seq > ?2) WHERE category = ?1",
                params![c.code(), prev_upto],
            )
            .map_err(sql)?;
            restored.push((*c, *prev_upto));
        }
        tx.commit().map_err(sql)?;
        for (c, prev) in &restored {
            self.marks[idx(*c)] = *prev;
        }
        Ok(!restored.is_empty())
    }

    /// Writes `read_at` into up to `limit` rows covered by a watermark, so that unread-only queries
    /// stop stepping over them. Changes no read state. Returns the rows written (0: done).
    /// Marks still inside their undo window are left alone.
    pub fn compact_read_marks(&mut self, limit: usize, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let settled = ms(now - UNDO_WINDOW);
        let n = self
            .conn
            .execute(
                "UPDATE notifications SET read_at = (SELECT read_at FROM read_marks m WHERE m.category = notifications.category)
                 WHERE seq IN (
                    SELECT n.seq FROM notifications n INDEXED BY notif_category_unread
                    JOIN read_marks m ON m.category = n.category
                    WHERE n.read_at IS NULL AND n.seq <= m.upto_seq AND m.read_at <= ?2 LIMIT ?1)",
                params![limit as i64, settled],
            )
            .map_err(|e| self.err(e))?;
        Ok(n)
    }

    /// NC-R5: deletes items past their tab's retention.
    pub fn prune_expired(&mut self, now: DateTime<Utc>) -> Result<PruneReport, StoreError> {
        let path = self.path.clone();
        let marks = self.marks.clone();
        let sql = |e: rusqlite::Error| classify(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        let mut report = PruneReport::default();
        let mut delta = vec![0i64; Category::ALL.len()];
        for tab in Tab::ALL {
            let cutoff = ms(rules::retention_cutoff(*tab, now));
            for c in tab.categories() {
                let unread: i64 = tx
                    .query_row(
                        "SELECT count(*) FROM notifications INDEXED BY notif_category_unread
                         WHERE category = ?1 AND read_at IS NULL AND created_at < ?2 AND seq > ?3",
                        params![c.code(), cutoff, marks[idx(*c)]],
                        |r| r.get(0),
                    )
                    .map_err(sql)?;
                delta[idx(*c)] -= unread;
                report.removed_unread += unread as u64;
            }
            report.removed += tx
                .execute(
                    "DELETE FROM notifications WHERE tab = ?1 AND created_at < ?2",
                    params![tab.code(), cutoff],
                )
                .map_err(sql)? as u64;
        }
        write_counts(&tx, &delta).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(report)
    }

    /// The ids a queued mark-all covered: for servers that can only mark items one by one.
    pub fn ids_covered(&self, op: &OutboxOp) -> Result<Vec<String>, StoreError> {
        let OutboxOp::MarkAllRead { tab, category, upto_seq, at, .. } = op else { return Ok(Vec::new()) };
        let scope = Scope::new(*tab, *category)?;
        let mut out = Vec::new();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id FROM notifications INDEXED BY notif_category WHERE category = ?1 AND seq <= ?2 \
                 AND (read_at IS NULL OR read_at >= ?3)",
            )
            .map_err(|e| self.err(e))?;
        for c in scope.categories() {
            let ids = stmt
                .query_map(params![c.code(), upto_seq, ms(*at)], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| self.err(e))?;
            out.extend(ids);
        }
        Ok(out)
    }

    /// The oldest actions due for the server at `now`, in the order they were taken (a mark-all
    /// is held back during its undo window).
    pub fn outbox_pending(&self, limit: usize, now: DateTime<Utc>) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, idempotency_key, op, attempts, last_error FROM outbox WHERE available_at <= ?2 \
                 ORDER BY seq LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![limit as i64, ms(now)], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get(4)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(seq, key, op, attempts, last_error)| {
                let op = serde_json::from_str(&op)
                    .map_err(|e| StoreError::Decode { id: key.clone(), detail: e.to_string() })?;
                Ok(OutboxEntry { seq, idempotency_key: key, op, attempts, last_error })
            })
            .collect()
    }

    /// The server accepted the action.
    pub fn outbox_done(&mut self, seq: i64) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM outbox WHERE seq = ?1", [seq]).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The action failed this time; it stays queued.
    pub fn outbox_failed(&mut self, seq: i64, error: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1",
                params![seq, error],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn state(&self, key: &str) -> Result<Option<String>, StoreError> {
        get_state(&self.conn, key).map_err(|e| self.err(e))
    }

    pub fn set_state(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        set_state(&self.conn, key, value).map_err(|e| self.err(e))
    }

    pub fn quarantined(&self) -> Result<Vec<QuarantinedItem>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT received_at, raw, error FROM quarantine ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .map(|(at, raw, error)| QuarantinedItem {
                received_at: from_ms(at).unwrap_or_default(),
                raw,
                error,
            })
            .collect())
    }

    /// Counts unread items from the rows themselves; the maintained counters must always agree.
    pub fn recount_unread(&self) -> Result<UnreadCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT n.category, count(*) FROM notifications n JOIN read_marks m ON m.category = n.category
                 WHERE n.read_at IS NULL AND n.seq > m.upto_seq GROUP BY n.category",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        let per_category = Category::ALL
            .iter()
            .map(|c| (*c, rows.iter().find(|(code, _)| *code == c.code()).map_or(0, |(_, n)| *n as u64)))
            .collect();
        Ok(UnreadCounts { per_category })
    }
}

/// The query of [`Store::page`] and its first parameter. Each shape names the index it must use.
fn page_sql(q: &ListQuery) -> (String, i64) {
    let (index, filter, key) = match (q.scope.category, q.unread_only) {
        (None, false) => ("notif_tab", "n.tab = ?1", q.scope.tab.code()),
        (None, true) => ("notif_tab_unread", "n.tab = ?1 AND n.read_at IS NULL", q.scope.tab.code()),
        (Some(c), false) => ("notif_category", "n.category = ?1", c.code()),
        (Some(c), true) => ("notif_category_unread", "n.category = ?1 AND n.read_at IS NULL", c.code()),
    };
    let unread = if q.unread_only {
        " AND n.seq > (SELECT upto_seq FROM read_marks WHERE category = n.category)"
    } else {
        ""
    };
    let after = if q.after.is_some() { " AND (n.created_at, n.id) < (?3, ?4)" } else { "" };
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications n INDEXED BY {index} \
         WHERE {filter}{unread}{after} ORDER BY n.created_at DESC, n.id DESC LIMIT ?2"
    );
    (sql, key)
}

/// The selected columns, with the effective read time (explicit, or from the watermark).
const COLUMNS: &str = "n.id, n.category, n.kind, n.params, n.actor_id, n.recipient_id, n.url, n.created_at, \
     coalesce(n.read_at, (SELECT CASE WHEN n.seq <= m.upto_seq THEN m.read_at END \
                          FROM read_marks m WHERE m.category = n.category))";

type Row = (String, i64, String, String, Option<String>, String, String, i64, Option<i64>);

fn collect_rows(mut rows: rusqlite::Rows<'_>) -> Result<Vec<Row>, rusqlite::Error> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        ));
    }
    Ok(out)
}

fn decode(row: Row) -> Result<Notification, StoreError> {
    let (id, code, kind, params, actor_id, recipient_id, url, created, read) = row;
    let bad = |detail: String| StoreError::Decode { id: id.clone(), detail };
    let category = Category::from_code(code).ok_or_else(|| bad(format!("category code {code}")))?;
    let kind: Kind = kind.parse().map_err(|e: crate::model::UnknownKey| bad(e.to_string()))?;
    let params: Params = serde_json::from_str(&params).map_err(|e| bad(format!("params: {e}")))?;
    let created_at = from_ms(created).ok_or_else(|| bad(format!("created_at {created}")))?;
    Ok(Notification {
        id: id.clone(),
        category,
        kind,
        params,
        actor_id,
        recipient_id,
        url,
        created_at,
        read_at: read.and_then(from_ms),
    })
}

fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::Corrupt { path: path.to_path_buf() }
        }
        _ => StoreError::Sqlite { path: path.to_path_buf(), source: e },
    }
}

/// `(seq, category code, read_at)` of a stored item.
type ReadState = (i64, i64, Option<i64>);

fn lookup(find: &mut rusqlite::CachedStatement<'_>, id: &str) -> Result<Option<ReadState>, rusqlite::Error> {
    find.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()
}

/// Merges a read time into a stored item: keeps the earliest read time and never goes back to unread
/// (MW-4). Returns whether the item was unread before.
fn merge_read(
    set_read: &mut rusqlite::CachedStatement<'_>,
    marks: &[i64],
    (seq, code, read_at): ReadState,
    at: i64,
    delta: &mut [i64],
) -> Result<bool, rusqlite::Error> {
    let Some(c) = Category::from_code(code) else { return Ok(false) };
    match read_at {
        Some(old) if old <= at => Ok(false),
        Some(_) => set_read.execute(params![seq, at]).map(|_| false),
        None => {
            set_read.execute(params![seq, at])?;
            let was_unread = seq > marks[idx(c)];
            if was_unread {
                delta[idx(c)] -= 1;
            }
            Ok(was_unread)
        }
    }
}

fn write_counts(conn: &Connection, delta: &[i64]) -> Result<(), rusqlite::Error> {
    let mut stmt = conn.prepare_cached("UPDATE unread_counts SET n = n + ?2 WHERE category = ?1")?;
    for c in Category::ALL {
        let d = delta[idx(*c)];
        if d != 0 {
            stmt.execute(params![c.code(), d])?;
        }
    }
    Ok(())
}

fn enqueue(
    conn: &Connection,
    key: &str,
    op: &OutboxOp,
    at: DateTime<Utc>,
    available_at: DateTime<Utc>,
) -> Result<(), rusqlite::Error> {
    let json = serde_json::to_string(op).unwrap_or_default();
    conn.execute(
        "INSERT OR IGNORE INTO outbox (idempotency_key, op, created_at, available_at) VALUES (?1, ?2, ?3, ?4)",
        params![key, json, ms(at), ms(available_at)],
    )?;
    Ok(())
}

fn get_state(conn: &Connection, key: &str) -> Result<Option<String>, rusqlite::Error> {
    conn.query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| r.get(0)).optional()
}

fn set_state(conn: &Connection, key: &str, value: &str) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
