//! Carrying out on SQLite the writes a plan decided (`db::plan`): every change a user's devices must
//! see gets the user's next sequence number in the same transaction as the data it describes (MW-3).

use chrono::{DateTime, Utc};
use lonceng_domain::model::Notification;
use lonceng_domain::protocol::{Change, ChangeBody};
use lonceng_domain::time::to_ms;
use rusqlite::{params, Transaction};

use super::decode_err;
use crate::db::plan::Write;
use crate::db::{DbResult, UserChange};

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

/// Carries out `writes` in order inside `tx`; returns the changes appended, in order.
pub(super) fn carry_out(
    tx: &Transaction<'_>,
    writes: Vec<Write>,
    now: DateTime<Utc>,
) -> DbResult<Vec<UserChange>> {
    let mut changes = Vec::new();
    for write in writes {
        match write {
            Write::Append { user, body } => {
                let change = append(tx, &user, body, now)?;
                changes.push((user, change));
            }
            Write::Create(n) => {
                let change =
                    append(tx, &n.recipient_id, ChangeBody::Created { notification: n.to_wire() }, now)?;
                insert(tx, &n, change.seq)?;
                changes.push((n.recipient_id, change));
            }
            Write::MarkRead { id, at } => {
                tx.prepare_cached("UPDATE notifications SET read_at = ?2 WHERE id = ?1")?
                    .execute(params![id, to_ms(at)])?;
            }
            Write::TrackCrm { id, user, crm_read } => {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO crm_items (id, user_id, crm_read) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![id, user, crm_read])?;
            }
            Write::CrmRead { id } => {
                tx.prepare_cached("UPDATE crm_items SET crm_read = 1 WHERE id = ?1")?.execute([id])?;
            }
        }
    }
    Ok(changes)
}

/// Stores a notification announced by the change `created_seq`.
fn insert(tx: &Transaction<'_>, n: &Notification, created_seq: i64) -> DbResult<()> {
    tx.prepare_cached(
        "INSERT INTO notifications (id, user_id, tab, category, kind, params, actor_id, url, \
         created_at, read_at, created_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        n.id,
        n.recipient_id,
        n.tab().code(),
        n.category.code(),
        n.kind.as_str(),
        serde_json::to_string(&n.params).map_err(decode_err)?,
        n.actor_id,
        n.url,
        to_ms(n.created_at),
        n.read_at.map(to_ms),
        created_seq,
    ])?;
    Ok(())
}
