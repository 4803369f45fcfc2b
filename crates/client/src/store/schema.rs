//! The store's schema and the file's identity: a Lonceng file is marked with its own
//! `application_id`, so that another program's database is never migrated by mistake, and a file
//! from a newer Lonceng is refused untouched (the shared runner in [`lonceng_domain::migrate`]).

use rusqlite::Transaction;

use super::{classify, Store, StoreError};
use lonceng_domain::migrate::{MigrateError, Migration, Schema};
use lonceng_domain::model::Category;

/// `PRAGMA application_id` of a Lonceng database ("LNCG").
pub(super) const APPLICATION_ID: i32 = 0x4C4E_4347;

/// Schema migrations; `PRAGMA user_version` is the number applied. Append only.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: r#"
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
        seed: Some(seed_categories),
    },
    Migration::sql(
        r#"
-- v2: an action can be held back (a mark-all during its undo window).
ALTER TABLE outbox ADD COLUMN available_at INTEGER NOT NULL DEFAULT 0;
"#,
    ),
    Migration::sql(
        r#"
-- v3: a rejected item is kept once, however often a source sends it again (the CRM list has no
-- cursor: every poll reads the same page).
DELETE FROM quarantine WHERE id NOT IN (SELECT min(id) FROM quarantine GROUP BY raw, error);
CREATE UNIQUE INDEX quarantine_once ON quarantine (raw, error);
"#,
    ),
    Migration::sql(
        r#"
-- v4: snoozed items, toasts held by quiet hours, and search over the history.
-- First, local sequence numbers are never reused: without AUTOINCREMENT, an item arriving after
-- the newest one was removed took its number, and so fell under a watermark (read) and behind
-- the search index's mark (never indexed). The table is rebuilt with the same rows and indexes.
CREATE TABLE notifications_v4 (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    tab          INTEGER NOT NULL,
    category     INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    params       TEXT NOT NULL,
    actor_id     TEXT,
    recipient_id TEXT NOT NULL,
    url          TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    read_at      INTEGER,
    arrived_at   INTEGER NOT NULL
);
INSERT INTO notifications_v4 SELECT seq, id, tab, category, kind, params, actor_id, recipient_id, url,
    created_at, read_at, arrived_at FROM notifications;
-- Numbers already handed out and gone (up to the highest watermark) are not handed out again.
INSERT INTO sqlite_sequence (name, seq) SELECT 'notifications_v4', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'notifications_v4');
UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(upto_seq), 0) FROM read_marks))
    WHERE name = 'notifications_v4';
DROP TABLE notifications;
ALTER TABLE notifications_v4 RENAME TO notifications;
CREATE INDEX notif_tab ON notifications (tab, created_at DESC, id DESC);
CREATE INDEX notif_category ON notifications (category, created_at DESC, id DESC);
CREATE INDEX notif_tab_unread ON notifications (tab, created_at DESC, id DESC) WHERE read_at IS NULL;
CREATE INDEX notif_category_unread ON notifications (category, created_at DESC, id DESC)
    WHERE read_at IS NULL;

CREATE TABLE snoozes (
    id    TEXT PRIMARY KEY,               -- the notification's id
    until INTEGER NOT NULL                -- Unix ms, UTC
);
CREATE INDEX snoozes_until ON snoozes (until);
CREATE TABLE held_toasts (
    id              INTEGER PRIMARY KEY,
    notification_id TEXT,                 -- NULL: chat messages or late items, `count` of them
    count           INTEGER NOT NULL
);
-- Search: one index per tab (general, inbox, approval); contentless, the text rendered by the app.
CREATE VIRTUAL TABLE search_general USING fts5 (
    text, category, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6'
);
CREATE VIRTUAL TABLE search_inbox USING fts5 (
    text, category, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6'
);
CREATE VIRTUAL TABLE search_approval USING fts5 (
    text, category, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6'
);
-- However a row goes (retention, the server's expiry, a new source), its index entry and snooze go.
CREATE TRIGGER notifications_gone AFTER DELETE ON notifications BEGIN
    DELETE FROM search_general WHERE old.tab = 1 AND rowid = old.seq;
    DELETE FROM search_inbox WHERE old.tab = 2 AND rowid = old.seq;
    DELETE FROM search_approval WHERE old.tab = 3 AND rowid = old.seq;
    DELETE FROM snoozes WHERE id = old.id;
END;
"#,
    ),
    Migration::sql(
        r#"
-- v5: the index folds letters the tokenizer keeps (ł, ø, đ, ß…: `search::fold`), so it is built
-- again, in the background as for new items.
INSERT INTO search_general (search_general) VALUES ('delete-all');
INSERT INTO search_inbox (search_inbox) VALUES ('delete-all');
INSERT INTO search_approval (search_approval) VALUES ('delete-all');
DELETE FROM sync_state WHERE key = 'search_upto';
"#,
    ),
];

/// Every category has a watermark and a counter row from the start.
pub(super) fn seed_categories(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for c in Category::ALL {
        tx.execute("INSERT INTO read_marks VALUES (?1, 0, 0)", [c.code()])?;
        tx.execute("INSERT INTO unread_counts VALUES (?1, 0)", [c.code()])?;
    }
    Ok(())
}

const SCHEMA: Schema<'static> = Schema { application_id: Some(APPLICATION_ID), migrations: MIGRATIONS };

impl Store {
    pub(super) fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        // The identity is checked before anything is written, the file's settings included.
        SCHEMA.check(&self.conn).map_err(|e| migrate_error(&path, e))?;
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; \
                 PRAGMA cache_size = -16384;",
            )
            .map_err(|e| self.err(e))?;
        SCHEMA.migrate(&mut self.conn).map_err(|e| migrate_error(&path, e))
    }

    pub(super) fn load_marks(&mut self) -> Result<(), StoreError> {
        for (code, upto) in self.per_category("SELECT category, upto_seq FROM read_marks")? {
            if let Some(c) = Category::from_code(code) {
                self.marks[super::idx(c)] = upto;
            }
        }
        Ok(())
    }
}

fn migrate_error(path: &std::path::Path, e: MigrateError) -> StoreError {
    let path = path.to_path_buf();
    match e {
        MigrateError::Sqlite(e) => classify(&path, e),
        MigrateError::Foreign { found } => StoreError::NotLonceng { path, found },
        MigrateError::Newer { found, supported } => StoreError::NewerSchema { path, found, supported },
    }
}
