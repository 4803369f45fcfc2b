//! The change feed: every change a user's devices must see gets the user's next sequence number
//! in the same transaction as the data it describes (MW-3). Retention trims items, the feed and
//! the idempotency keys.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use lonceng_core::model::Tab;
use lonceng_core::protocol::{Change, ChangeBody, ChangesPage};
use lonceng_core::rules;
use lonceng_core::time::to_ms;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{decode_err, from_ms};
use crate::db::{DbError, DbResult, UserChange};

/// How long the change feed, producer keys and client keys are kept.
const FEED_RETENTION_DAYS: i64 = 90;
const KEY_RETENTION_DAYS: i64 = 30;
/// Ids per `read` / `expired` change.
const IDS_PER_CHANGE: usize = 1_000;

pub(super) fn ensure_user(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    // Cached statements: these run for every change (measured: docs/PERFORMANCE.md, webhooks).
    tx.prepare_cached("INSERT OR IGNORE INTO users (id, name) VALUES (?1, ?1)")?.execute([id])?;
    Ok(())
}

/// Appends a change to a user's feed with their next sequence number.
pub(super) fn append(
    tx: &Transaction<'_>,
    user: &str,
    body: ChangeBody,
    now: DateTime<Utc>,
) -> DbResult<Change> {
    ensure_user(tx, user)?;
    let seq: i64 = tx
        .prepare_cached("UPDATE users SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq")?
        .query_row([user], |r| r.get(0))?;
    let change = Change { seq, at: now, body };
    let json = serde_json::to_string(&change.body).map_err(decode_err)?;
    tx.prepare_cached("INSERT INTO changes (user_id, seq, at, body) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![user, seq, to_ms(now), json])?;
    Ok(change)
}

/// Appends `read` or `expired` changes for many ids, in chunks.
pub(super) fn append_chunked(
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

pub(super) fn changes_tx(conn: &Connection, user: &str, since: i64, limit: usize) -> DbResult<ChangesPage> {
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

pub(super) fn prune_tx(conn: &mut Connection, now: DateTime<Utc>) -> DbResult<Vec<UserChange>> {
    let tx = conn.transaction()?;
    let mut by_user: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for tab in Tab::ALL {
        let cutoff = to_ms(rules::retention_cutoff(*tab, now));
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
    tx.execute("DELETE FROM changes WHERE at < ?1", [to_ms(now - Duration::days(FEED_RETENTION_DAYS))])?;
    let keys_cutoff = to_ms(now - Duration::days(KEY_RETENTION_DAYS));
    tx.execute("DELETE FROM events WHERE received_at < ?1", [keys_cutoff])?;
    tx.execute("DELETE FROM client_ops WHERE at < ?1", [keys_cutoff])?;
    // The CRM read state of items retention removed (the next poll skips them: NC-R5).
    tx.execute("DELETE FROM crm_items WHERE id NOT IN (SELECT id FROM notifications)", [])?;
    tx.commit()?;
    Ok(changes)
}
