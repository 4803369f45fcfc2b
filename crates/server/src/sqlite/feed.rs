//! The change feed on SQLite: a user's changes after a cursor, and retention, which trims items
//! (NC-R5), the feed and the idempotency keys. Appending is in [`super::writes`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lonceng_domain::protocol::{Change, ChangesPage};
use lonceng_domain::time::to_ms;
use rusqlite::{params, Connection, OptionalExtension};

use super::writes::carry_out;
use super::{decode_err, from_ms};
use crate::db::{plan, DbError, DbResult, UserChange};

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
    let retention = plan::retention(now);
    let mut by_user: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (tab, cutoff) in &retention.items {
        let mut stmt = tx.prepare_cached(
            "DELETE FROM notifications WHERE tab = ?1 AND created_at < ?2 RETURNING user_id, id",
        )?;
        let rows = stmt
            .query_map(params![tab.code(), to_ms(*cutoff)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (user, id) in rows {
            by_user.entry(user).or_default().push(id);
        }
    }
    let changes = carry_out(&tx, plan::expiries(by_user), now)?;
    tx.execute("DELETE FROM changes WHERE at < ?1", [to_ms(retention.changes_before)])?;
    let keys_cutoff = to_ms(retention.keys_before);
    tx.execute("DELETE FROM events WHERE received_at < ?1", [keys_cutoff])?;
    tx.execute("DELETE FROM client_ops WHERE at < ?1", [keys_cutoff])?;
    // The CRM read state of items retention removed (the next poll skips them: NC-R5).
    tx.execute("DELETE FROM crm_items WHERE id NOT IN (SELECT id FROM notifications)", [])?;
    tx.commit()?;
    Ok(changes)
}
