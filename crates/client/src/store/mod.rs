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
//!
//! One job per file: [`schema`] (migrations and the file's identity), [`notifications`] (what
//! arrives, the pages, retention), [`read_state`] (marking read, mark-all and its undo, the
//! counters), [`outbox`] (actions waiting for the server), [`state`] (the sync cursor and the
//! quarantine), [`search`] (the FTS5 index), [`snooze`] (snoozed items, held toasts).

mod notifications;
mod outbox;
mod read_state;
mod schema;
mod search;
mod snooze;
mod state;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, Transaction};
use serde::{Deserialize, Serialize};

use lonceng_domain::model::{check_scope, Category, Notification, Rejected, Tab};

pub use outbox::{OutboxEntry, OutboxOp, UNDO_WINDOW};
pub use search::{fts_query, params_text, rendered, Indexer, SearchQuery, MAX_RESULTS};
pub use snooze::Snoozed;
pub use state::{QuarantinedItem, CURSOR_KEY};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Scope {
    pub tab: Tab,
    pub category: Option<Category>,
}

impl Scope {
    pub fn new(tab: Tab, category: Option<Category>) -> Result<Scope, StoreError> {
        check_scope(tab, category)
            .map_err(|e| StoreError::CategoryNotInTab { tab: e.tab, category: e.category })?;
        Ok(Scope { tab, category })
    }

    pub fn categories(&self) -> Vec<Category> {
        match self.category {
            Some(c) => vec![c],
            None => self.tab.categories().to_vec(),
        }
    }
}

/// The position after the last item of a page (keyset pagination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "Cursor")]
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

/// One unit of synchronisation, applied atomically: if the process dies, either all of it (cursor
/// included) is stored or none of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub items: Vec<Notification>,
    pub reads: Vec<RemoteRead>,
    /// ORG-7: ids marked unread again elsewhere (none of them also in `reads`: the later wins).
    pub unreads: Vec<String>,
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
    /// ORG-7: ids that were read and are unread again.
    pub newly_unread: Vec<String>,
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

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// `upto_seq` per category, by `Category::code() - 1`; mirrors `read_marks`.
    marks: Vec<i64>,
    /// What items are found by in search.
    indexer: Indexer,
}

/// A category's slot in per-category vectors.
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
        let indexer: Indexer = std::sync::Arc::new(params_text);
        let mut store = Store { conn, path, marks: vec![0; Category::ALL.len()], indexer };
        store.migrate()?;
        store.load_marks()?;
        Ok(store)
    }

    /// Classifies SQLite errors: damage is reported with the file and what to do.
    fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, e)
    }

    /// Runs `f` in one transaction, with the watermarks as they are, and commits what it did; any
    /// failure rolls all of it back.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>, &[i64]) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let (path, marks) = (&self.path, &self.marks);
        let tx = self.conn.transaction().map_err(|e| classify(path, e))?;
        let out = f(&tx, marks).map_err(|e| classify(path, e))?;
        tx.commit().map_err(|e| classify(path, e))?;
        Ok(out)
    }

    /// `(category code, value)` rows of a per-category table.
    fn per_category(&self, sql: &str) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::Corrupt { path: path.to_path_buf() }
        }
        _ => StoreError::Sqlite { path: path.to_path_buf(), source: e },
    }
}

#[cfg(test)]
mod tests;

/// Each tab's search index: a search within a tab never walks what only another tab holds, so a
/// word common elsewhere costs nothing there (`search`); an item unread again moves in it too.
fn search_table(tab: Tab) -> &'static str {
    match tab {
        Tab::General => "search_general",
        Tab::Inbox => "search_inbox",
        Tab::Approval => "search_approval",
    }
}
