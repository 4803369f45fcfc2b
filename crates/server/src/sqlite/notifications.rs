//! Notifications on SQLite: producer events applied once per idempotency key (MW-4), a user's
//! pages, counts, and marking read (one item, or exactly a tab and category: NC-R6), each change
//! appended to the user's feed in the same transaction. What an event writes is `db::plan`'s.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lonceng_domain::model::{Category, Notification, Tab, WireNotification};
use lonceng_domain::protocol::{
    ChangeBody, Counts, EventResponse, MarkAllReadResponse, MarkReadResponse, MarkUnreadResponse,
};
use lonceng_domain::rules::{Outcome, ProducerEvent};
use lonceng_domain::time::to_ms;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::writes::{append, carry_out};
use super::{decode_err, from_ms};
use crate::db::plan::{self, OutcomePlan};
use crate::db::{Acted, Applied, DbError, DbResult, ListFilter, MarkAll};

type NotifRow = (String, String, i64, String, String, Option<String>, String, i64, Option<i64>);

/// A stored row as it travels: decoded into a [`Notification`], whose `to_wire` is the one place
/// the wire form is built.
fn wire(row: NotifRow) -> DbResult<WireNotification> {
    let (id, user_id, code, kind, params, actor_id, url, created, read) = row;
    let category = Category::from_code(code).ok_or_else(|| DbError::Decode(format!("category {code}")))?;
    let n = Notification {
        id,
        category,
        kind: kind.parse().map_err(decode_err)?,
        params: serde_json::from_str(&params).map_err(decode_err)?,
        actor_id,
        recipient_id: user_id,
        url,
        created_at: from_ms(created)?,
        read_at: read.map(from_ms).transpose()?,
    };
    Ok(n.to_wire())
}

const NOTIF_COLUMNS: &str = "id, user_id, category, kind, params, actor_id, url, created_at, read_at";

fn notif_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NotifRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
}

pub(super) fn apply_events_tx(
    conn: &mut Connection,
    events: Vec<(String, Outcome)>,
    now: DateTime<Utc>,
) -> DbResult<Vec<Applied>> {
    let tx = conn.transaction()?;
    let mut out = Vec::with_capacity(events.len());
    for (key, outcome) in events {
        // A key earlier in this batch is seen here too: the transaction reads its own writes.
        out.push(match seen_event(&tx, &key)? {
            Some(seen) => seen,
            None => apply_outcome(&tx, &key, outcome, now)?,
        });
    }
    tx.commit()?;
    Ok(out)
}

/// What an applied event was answered (a producer re-sending during maintenance gets it again).
pub(super) fn event_response(conn: &Connection, key: &str) -> DbResult<Option<EventResponse>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT response FROM events WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    json.map(|j| serde_json::from_str(&j).map_err(decode_err)).transpose()
}

/// Keeps an event for after maintenance; false when it was applied or queued already.
pub(super) fn queue_event(
    conn: &Connection,
    key: &str,
    event: &ProducerEvent,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let applied: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM events WHERE key = ?1)", [key], |r| r.get(0))?;
    if applied {
        return Ok(false);
    }
    let body = serde_json::to_string(event).map_err(decode_err)?;
    let n = conn.execute(
        "INSERT OR IGNORE INTO queued_events (key, received_at, body) VALUES (?1, ?2, ?3)",
        params![key, to_ms(now), body],
    )?;
    Ok(n == 1)
}

/// The events queued during maintenance, oldest first.
pub(super) fn queued_events(conn: &Connection, limit: usize) -> DbResult<Vec<(String, ProducerEvent)>> {
    let rows = conn
        .prepare_cached("SELECT key, body FROM queued_events ORDER BY pos LIMIT ?1")?
        .query_map([limit as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(|(k, b)| Ok((k, serde_json::from_str(&b).map_err(decode_err)?))).collect()
}

/// The answer already given for an event key, marked as a duplicate.
pub(super) fn seen_event(tx: &Transaction<'_>, key: &str) -> DbResult<Option<Applied>> {
    Ok(event_response(tx, key)?.map(|response| Applied {
        response: EventResponse { duplicate: true, ..response },
        changes: Vec::new(),
    }))
}

/// Applies a decided outcome inside `tx` and records its key (MW-4).
pub(super) fn apply_outcome(
    tx: &Transaction<'_>,
    key: &str,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> DbResult<Applied> {
    let OutcomePlan { response, writes } = plan::outcome(outcome, plan::new_id);
    let changes = carry_out(tx, writes, now)?;
    tx.prepare_cached("INSERT INTO events (key, received_at, response) VALUES (?1, ?2, ?3)")?
        .execute(params![key, to_ms(now), serde_json::to_string(&response).map_err(decode_err)?])?;
    tx.prepare_cached("DELETE FROM queued_events WHERE key = ?1")?.execute([key])?;
    Ok(Applied { response, changes })
}

pub(super) fn list_tx(conn: &Connection, user: &str, f: &ListFilter) -> DbResult<Vec<WireNotification>> {
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
        Some((at, id)) => stmt
            .query_map(params![user, key, limit, to_ms(*at), id], notif_row)?
            .collect::<Result<Vec<_>, _>>(),
        None => stmt.query_map(params![user, key, limit], notif_row)?.collect::<Result<Vec<_>, _>>(),
    }?;
    // A row this build cannot read back (written by a newer server before a rollback, say) is
    // logged and left out; it does not take the rest of the page with it.
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let id = row.0.clone();
            wire(row).inspect_err(|e| tracing::error!(error = %e, id, "stored notification unreadable")).ok()
        })
        .collect())
}

pub(super) fn mark_all_tx(conn: &mut Connection, op: &MarkAll) -> DbResult<Acted<MarkAllReadResponse>> {
    let (user, req, key, now) = (op.user_id.as_str(), &op.request, op.idempotency_key.as_deref(), op.now);
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
        .query_map(params![user, to_ms(now), code, upto], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let response = MarkAllReadResponse { changed: ids.len() as u64 };
    let changes = carry_out(&tx, plan::reads(user, &ids, now), now)?;
    if let Some(key) = key {
        tx.execute(
            "INSERT INTO client_ops (user_id, key, at, response) VALUES (?1, ?2, ?3, ?4)",
            params![user, key, to_ms(now), serde_json::to_string(&response).map_err(decode_err)?],
        )?;
    }
    tx.commit()?;
    Ok(Acted { response, changes })
}

/// The user's item's read time (`None` inside: unread); `None` when the user has no such item.
fn read_at(tx: &Transaction<'_>, user_id: &str, id: &str) -> DbResult<Option<Option<i64>>> {
    let found = tx
        .query_row("SELECT read_at FROM notifications WHERE id = ?1 AND user_id = ?2", [id, user_id], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(found)
}

pub(super) fn mark_read_tx(
    conn: &mut Connection,
    user_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> DbResult<Option<Acted<MarkReadResponse>>> {
    let tx = conn.transaction()?;
    let Some(read_at) = read_at(&tx, user_id, id)? else { return Ok(None) };
    if let Some(at) = read_at {
        return Ok(Some(Acted {
            response: MarkReadResponse { changed: false, read_at: from_ms(at)? },
            changes: vec![],
        }));
    }
    tx.execute("UPDATE notifications SET read_at = ?2 WHERE id = ?1", params![id, to_ms(now)])?;
    let change = append(&tx, user_id, ChangeBody::Read { ids: vec![id.to_owned()], read_at: now }, now)?;
    tx.commit()?;
    Ok(Some(Acted {
        response: MarkReadResponse { changed: true, read_at: now },
        changes: vec![(user_id.to_owned(), change)],
    }))
}

/// ORG-7: unread again, and a change so every device of the user follows.
pub(super) fn mark_unread_tx(
    conn: &mut Connection,
    user_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> DbResult<Option<Acted<MarkUnreadResponse>>> {
    let tx = conn.transaction()?;
    let Some(read_at) = read_at(&tx, user_id, id)? else { return Ok(None) };
    if read_at.is_none() {
        return Ok(Some(Acted { response: MarkUnreadResponse { changed: false }, changes: vec![] }));
    }
    tx.execute("UPDATE notifications SET read_at = NULL WHERE id = ?1", [id])?;
    let change = append(&tx, user_id, ChangeBody::Unread { ids: vec![id.to_owned()] }, now)?;
    tx.commit()?;
    Ok(Some(Acted {
        response: MarkUnreadResponse { changed: true },
        changes: vec![(user_id.to_owned(), change)],
    }))
}

pub(super) fn counts_tx(conn: &Connection, user_id: &str) -> DbResult<Counts> {
    let rows = conn
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
}
