//! What the sync engine keeps beside the list: small key/value state (the server cursor, the last
//! sync time) and the quarantine of items that failed validation, each kept with its reason.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::{Store, StoreError};
use lonceng_domain::model::Category;
use lonceng_domain::time::{from_ms, to_ms};

/// The sync state key of the server cursor; recorded with offline mark-all actions so that the
/// server marks exactly what the agent saw.
pub const CURSOR_KEY: &str = "cursor";
/// The sync state key of the source the store was filled from.
const SOURCE_KEY: &str = "source";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedItem {
    pub received_at: DateTime<Utc>,
    pub raw: String,
    pub error: String,
}

impl Store {
    pub fn state(&self, key: &str) -> Result<Option<String>, StoreError> {
        get_state(&self.conn, key).map_err(|e| self.err(e))
    }

    pub fn set_state(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        set_state(&self.conn, key, value).map_err(|e| self.err(e))
    }

    /// Binds the store to the source that fills it (`identity`: which server and user, or which CRM
    /// and SSO user). When it was filled from another one, everything from there goes first (items,
    /// read marks, pending actions, cursors, the quarantine), so that nothing stale from the other
    /// source is listed. A store bound to nothing yet keeps what it has. Returns whether it emptied.
    pub fn bind_source(&mut self, identity: &str) -> Result<bool, StoreError> {
        let emptied = self.write(|tx, _| {
            let other = get_state(tx, SOURCE_KEY)?.is_some_and(|bound| bound != identity);
            if other {
                tx.execute_batch(
                                        "DELETE FROM notifications; DELETE FROM read_marks; DELETE FROM outbox; DELETE FROM held_toasts; \
                     DELETE FROM quarantine; DELETE FROM sync_state; DELETE FROM unread_counts;",
                )?;
                // Every category has its watermark and counter again, as in a new store (without
                // them, every unread query compares with NULL and finds nothing).
                super::schema::seed_categories(tx)?;
            }
            set_state(tx, SOURCE_KEY, identity)?;
            Ok(other)
        })?;
        if emptied {
            self.marks = vec![0; Category::ALL.len()];
            self.load_marks()?;
        }
        Ok(emptied)
    }

    /// The tab may have lost items while the agent was away longer than it keeps them: shown in
    /// that tab until dismissed.
    pub fn mark_gap(&mut self, tab: lonceng_domain::model::Tab, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.set_state(&format!("gap:{tab}"), &to_ms(at).to_string())
    }

    /// The tabs with a gap not yet dismissed.
    pub fn gaps(&self) -> Result<Vec<lonceng_domain::model::Tab>, StoreError> {
        let mut out = Vec::new();
        for tab in lonceng_domain::model::Tab::ALL {
            if self.state(&format!("gap:{tab}"))?.is_some() {
                out.push(*tab);
            }
        }
        Ok(out)
    }

    pub fn dismiss_gap(&mut self, tab: lonceng_domain::model::Tab) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM sync_state WHERE key = ?1", [format!("gap:{tab}")])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// How many items were kept aside (the window says so, quietly).
    pub fn quarantine_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n.max(0) as u64)
    }

    /// The reasons of the latest `limit` items kept aside, newest first, with when they came.
    pub fn quarantine_reasons(&self, limit: usize) -> Result<Vec<(DateTime<Utc>, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT received_at, error FROM quarantine ORDER BY id DESC LIMIT ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().map(|(at, e)| (from_ms(at).unwrap_or_default(), e)).collect())
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
}

/// Keeps a rejected item with its reason; false when it is kept already.
pub(super) fn quarantine(
    conn: &Connection,
    raw: &str,
    error: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    let added = conn
        .prepare_cached("INSERT OR IGNORE INTO quarantine (received_at, raw, error) VALUES (?1, ?2, ?3)")?
        .execute(params![to_ms(now), raw, error])?;
    Ok(added == 1)
}

pub(super) fn get_state(conn: &Connection, key: &str) -> Result<Option<String>, rusqlite::Error> {
    conn.query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| r.get(0)).optional()
}

pub(super) fn set_state(conn: &Connection, key: &str, value: &str) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
