//! Actions taken on this device that wait for the server (MW-6): written in the same transaction
//! as the change they make locally, sent in the order they were taken, each with an idempotency
//! key so that a re-send after a lost answer changes nothing twice.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use super::{Scope, Store, StoreError};
use lonceng_domain::model::{Category, Tab};
use lonceng_domain::time::to_ms;

/// How long a mark-all waits before it goes to the server, so that Undo can still take it back.
pub const UNDO_WINDOW: chrono::Duration = chrono::Duration::seconds(10);

/// An action taken on this device, waiting to reach the server (MW-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OutboxOp {
    MarkRead {
        id: String,
        at: DateTime<Utc>,
    },
    /// ORG-7.
    MarkUnread {
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

impl Store {
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
                .query_map(params![c.code(), upto_seq, to_ms(*at)], |r| r.get::<_, String>(0))
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
            .query_map(params![limit as i64, to_ms(now)], |r| {
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

    /// The server accepted the action. By its key too: an action withdrawn while it was on its way
    /// (a read the agent took back with an unread) may have left its number to the next one queued.
    pub fn outbox_done(&mut self, entry: &OutboxEntry) -> Result<(), StoreError> {
        self.conn
            .execute(
                "DELETE FROM outbox WHERE seq = ?1 AND idempotency_key = ?2",
                params![entry.seq, entry.idempotency_key],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn outbox_failed(&mut self, entry: &OutboxEntry, error: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?3 WHERE seq = ?1 AND idempotency_key = ?2",
                params![entry.seq, entry.idempotency_key, error],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

/// Queues an action, due at `available_at`; a key queued already is left as it is.
pub(super) fn enqueue(
    conn: &Connection,
    key: &str,
    op: &OutboxOp,
    at: DateTime<Utc>,
    available_at: DateTime<Utc>,
) -> Result<(), rusqlite::Error> {
    let json = serde_json::to_string(op).unwrap_or_default();
    conn.execute(
        "INSERT OR IGNORE INTO outbox (idempotency_key, op, created_at, available_at) VALUES (?1, ?2, ?3, ?4)",
        params![key, json, to_ms(at), to_ms(available_at)],
    )?;
    Ok(())
}

/// Withdraws a queued action that has not left yet; false when it is gone (sent already).
pub(super) fn withdraw(conn: &Connection, key: &str) -> Result<bool, rusqlite::Error> {
    Ok(conn.execute("DELETE FROM outbox WHERE idempotency_key = ?1", [key])? > 0)
}
