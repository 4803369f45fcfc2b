//! Notifications on PostgreSQL: as on SQLite (see `sqlite::notifications`), with idempotency keys
//! claimed before anything is applied, so that nodes racing on one key apply it once (MW-4).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use lonceng_domain::model::{Category, Notification, Tab, WireNotification};
use lonceng_domain::protocol::{
    ChangeBody, Counts, EventResponse, MarkAllReadResponse, MarkReadResponse, MarkUnreadResponse,
};
use lonceng_domain::rules::Outcome;
use tokio_postgres::Row;

use super::writes::{append, carry_out, carry_out_tagged, lock_user, lock_writers};
use super::{col, decode_err, ms};
use crate::db::plan::{self, OutcomePlan};
use crate::db::{Acted, Applied, DbError, DbResult, ListFilter, MarkAll};

const NOTIF_COLUMNS: &str = "id, user_id, category, kind, params, actor_id, url, created_at, read_at";

/// A stored row, decoded into a [`Notification`] (whose `to_wire` is the one place the wire form is
/// built).
fn wire(r: &Row) -> DbResult<WireNotification> {
    let code: i64 = col!(r, 2);
    let category = Category::from_code(code).ok_or_else(|| DbError::Decode(format!("category {code}")))?;
    let kind: String = col!(r, 3);
    let params: String = col!(r, 4);
    let n = Notification {
        id: col!(r, 0),
        category,
        kind: kind.parse().map_err(decode_err)?,
        params: serde_json::from_str(&params).map_err(decode_err)?,
        actor_id: col!(r, 5),
        recipient_id: col!(r, 1),
        url: col!(r, 6),
        created_at: col!(r, 7),
        read_at: col!(r, 8),
    };
    Ok(n.to_wire())
}

/// Takes an event key for this transaction: false when another transaction has it (it is waited
/// for, so its answer is committed by then).
pub(super) async fn claim_event(tx: &impl GenericClient, key: &str, now: DateTime<Utc>) -> DbResult<bool> {
    let stmt = tx
        .prepare_cached("INSERT INTO events (key, received_at, response) VALUES ($1, $2, '') ON CONFLICT (key) DO NOTHING")
        .await?;
    Ok(tx.execute(&stmt, &[&key, &ms(now)]).await? == 1)
}

/// The answer already given for an event key, marked as a duplicate.
pub(super) async fn seen_event(tx: &impl GenericClient, key: &str) -> DbResult<Applied> {
    let stmt = tx.prepare_cached("SELECT response FROM events WHERE key = $1").await?;
    let row = tx
        .query_opt(&stmt, &[&key])
        .await?
        .ok_or_else(|| DbError::Decode(format!("event '{key}' was claimed and is gone")))?;
    let json: String = col!(row, 0);
    let mut response: EventResponse = serde_json::from_str(&json).map_err(decode_err)?;
    response.duplicate = true;
    Ok(Applied { response, changes: Vec::new() })
}

/// Applies decided producer events inside `tx` (group commit), each once per key (MW-4), in three
/// round trips however many items they create: the keys are claimed together, each with its
/// answer; the items stored together (`carry_out_tagged`); the keys taken off the maintenance queue
/// together. Answers of keys applied before cost one more, and each chat toast one.
pub(super) async fn apply_events(
    tx: &impl GenericClient,
    events: Vec<(String, Outcome)>,
    now: DateTime<Utc>,
) -> DbResult<Vec<Applied>> {
    let keys: Vec<String> = events.iter().map(|(k, _)| k.clone()).collect();
    // Each key's first event in the batch is planned before anything is written, so that its
    // claim stores its answer; a repeat in the batch is answered as a duplicate of it.
    let mut plans: Vec<(String, Option<OutcomePlan>)> = Vec::with_capacity(events.len());
    let (mut firsts, mut answers_json) = (Vec::new(), Vec::new());
    for (key, outcome) in events {
        let plan = (!firsts.contains(&key)).then(|| plan::outcome(outcome, plan::new_id));
        if let Some(p) = &plan {
            firsts.push(key.clone());
            answers_json.push(serde_json::to_string(&p.response).map_err(decode_err)?);
        }
        plans.push((key, plan));
    }
    // A key another transaction holds is waited for: its answer is committed by then.
    let stmt = tx
        .prepare_cached(
            "INSERT INTO events (key, received_at, response) SELECT k, $2, r \
             FROM unnest($1::text[], $3::text[]) AS a (k, r) ORDER BY k ON CONFLICT (key) DO NOTHING RETURNING key",
        )
        .await?;
    let claimed: HashSet<String> = tx
        .query(&stmt, &[&firsts, &ms(now), &answers_json])
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(decode_err)?;
    let mut answers: BTreeMap<String, EventResponse> = BTreeMap::new();
    let seen: Vec<&str> = firsts.iter().map(String::as_str).filter(|k| !claimed.contains(*k)).collect();
    if !seen.is_empty() {
        let stmt = tx.prepare_cached("SELECT key, response FROM events WHERE key = ANY($1)").await?;
        for row in tx.query(&stmt, &[&seen]).await? {
            let json: String = col!(row, 1);
            answers.insert(col!(row, 0), serde_json::from_str(&json).map_err(decode_err)?);
        }
    }
    let mut out: Vec<Applied> = Vec::with_capacity(plans.len());
    let mut writes = Vec::new();
    for (key, plan) in plans {
        match plan.filter(|_| claimed.contains(&key)) {
            Some(OutcomePlan { response, writes: mine }) => {
                // Every event's writes in one go, in order, each tagged with its event's answer.
                writes.extend(mine.into_iter().map(|w| (out.len(), w)));
                answers.insert(key, response.clone());
                out.push(Applied { response, changes: Vec::new() });
            }
            None => {
                let mut response = answers
                    .get(&key)
                    .cloned()
                    .ok_or_else(|| DbError::Decode(format!("event '{key}' was claimed and is gone")))?;
                response.duplicate = true;
                out.push(Applied { response, changes: Vec::new() });
            }
        }
    }
    lock_writers(tx, writes.iter().map(|(_, w)| w)).await?;
    for (event, change) in carry_out_tagged(tx, writes, now).await? {
        if let Some(applied) = out.get_mut(event) {
            applied.changes.push(change);
        }
    }
    // Every key leaves the maintenance queue, the ones applied elsewhere too.
    let stmt = tx.prepare_cached("DELETE FROM queued_events WHERE key = ANY($1)").await?;
    tx.execute(&stmt, &[&keys]).await?;
    Ok(out)
}

/// Applies a decided outcome inside `tx` under its claimed key (MW-4).
pub(super) async fn apply_outcome(
    tx: &impl GenericClient,
    key: &str,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> DbResult<Applied> {
    let OutcomePlan { response, writes } = plan::outcome(outcome, plan::new_id);
    lock_writers(tx, writes.iter()).await?;
    let changes = carry_out(tx, writes, now).await?;
    let json = serde_json::to_string(&response).map_err(decode_err)?;
    let stmt = tx
        .prepare_cached(
            "WITH q AS (DELETE FROM queued_events WHERE key = $1) UPDATE events SET response = $2 WHERE key = $1",
        )
        .await?;
    tx.execute(&stmt, &[&key, &json]).await?;
    Ok(Applied { response, changes })
}

pub(super) async fn list(
    c: &impl GenericClient,
    user: &str,
    f: &ListFilter,
) -> DbResult<Vec<WireNotification>> {
    let (scope, key) = match f.category {
        Some(cat) => ("category = $2", cat.code()),
        None => ("tab = $2", f.tab.code()),
    };
    let unread = if f.unread_only { " AND read_at IS NULL" } else { "" };
    let after = if f.after.is_some() { " AND (created_at, id) < ($4, $5)" } else { "" };
    let sql = format!(
        "SELECT {NOTIF_COLUMNS} FROM notifications WHERE user_id = $1 AND {scope}{unread}{after} \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    );
    let stmt = c.prepare_cached(&sql).await?;
    let limit = f.limit as i64;
    let rows = match &f.after {
        Some((at, id)) => c.query(&stmt, &[&user, &key, &limit, &ms(*at), id]).await?,
        None => c.query(&stmt, &[&user, &key, &limit]).await?,
    };
    // As on SQLite: a row this build cannot read back is logged and left out of the page.
    Ok(rows
        .iter()
        .filter_map(|r| {
            wire(r)
                .inspect_err(|e| {
                    let id: Option<String> = r.try_get(0).ok();
                    tracing::error!(error = %e, id, "stored notification unreadable")
                })
                .ok()
        })
        .collect())
}

pub(super) async fn mark_all(tx: &impl GenericClient, op: &MarkAll) -> DbResult<Acted<MarkAllReadResponse>> {
    let (user, req, key, now) = (op.user_id.as_str(), &op.request, op.idempotency_key.as_deref(), op.now);
    // The user before the items, as everywhere: no deadlock with a CRM poll or retention.
    lock_user(tx, user).await?;
    if let Some(key) = key {
        let claimed = tx
            .execute(
                "INSERT INTO client_ops (user_id, key, at, response) VALUES ($1, $2, $3, '') \
                 ON CONFLICT (user_id, key) DO NOTHING",
                &[&user, &key, &ms(now)],
            )
            .await?
            == 1;
        if !claimed {
            let row = tx
                .query_one("SELECT response FROM client_ops WHERE user_id = $1 AND key = $2", &[&user, &key])
                .await?;
            let json: String = col!(row, 0);
            let response = serde_json::from_str(&json).map_err(decode_err)?;
            return Ok(Acted { response, changes: Vec::new() });
        }
    }
    let (scope, code) = match req.category {
        Some(c) => ("category = $3", c.code()),
        None => ("tab = $3", req.tab.code()),
    };
    let sql = format!(
        "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND {scope} AND read_at IS NULL \
         AND created_seq <= $4 RETURNING id"
    );
    let upto = req.upto_cursor.unwrap_or(i64::MAX);
    let rows = tx.query(&sql, &[&user, &ms(now), &code, &upto]).await?;
    let mut ids: Vec<String> = Vec::with_capacity(rows.len());
    for r in rows {
        ids.push(col!(r, 0));
    }
    let response = MarkAllReadResponse { changed: ids.len() as u64 };
    let changes = carry_out(tx, plan::reads(user, &ids, now), now).await?;
    if let Some(key) = key {
        let json = serde_json::to_string(&response).map_err(decode_err)?;
        tx.execute(
            "UPDATE client_ops SET response = $3 WHERE user_id = $1 AND key = $2",
            &[&user, &key, &json],
        )
        .await?;
    }
    Ok(Acted { response, changes })
}

/// The user's item's read time (`None` inside: unread), its row locked; `None` when the user has
/// no such item. `FOR UPDATE`: two devices marking the same item at once announce it once.
async fn locked_read_at(
    tx: &impl GenericClient,
    user_id: &str,
    id: &str,
) -> DbResult<Option<Option<DateTime<Utc>>>> {
    lock_user(tx, user_id).await?;
    let row = tx
        .query_opt(
            "SELECT read_at FROM notifications WHERE id = $1 AND user_id = $2 FOR UPDATE",
            &[&id, &user_id],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(col!(row, 0)))
}

pub(super) async fn mark_read(
    tx: &impl GenericClient,
    user_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> DbResult<Option<Acted<MarkReadResponse>>> {
    let Some(read_at) = locked_read_at(tx, user_id, id).await? else { return Ok(None) };
    if let Some(at) = read_at {
        return Ok(Some(Acted {
            response: MarkReadResponse { changed: false, read_at: at },
            changes: vec![],
        }));
    }
    tx.execute("UPDATE notifications SET read_at = $2 WHERE id = $1", &[&id, &ms(now)]).await?;
    let change =
        append(tx, user_id, ChangeBody::Read { ids: vec![id.to_owned()], read_at: now }, now).await?;
    Ok(Some(Acted {
        response: MarkReadResponse { changed: true, read_at: now },
        changes: vec![(user_id.to_owned(), change)],
    }))
}

/// ORG-7: unread again, and a change so every device of the user follows.
pub(super) async fn mark_unread(
    tx: &impl GenericClient,
    user_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> DbResult<Option<Acted<MarkUnreadResponse>>> {
    let Some(read_at) = locked_read_at(tx, user_id, id).await? else { return Ok(None) };
    if read_at.is_none() {
        return Ok(Some(Acted { response: MarkUnreadResponse { changed: false }, changes: vec![] }));
    }
    tx.execute("UPDATE notifications SET read_at = NULL WHERE id = $1", &[&id]).await?;
    let change = append(tx, user_id, ChangeBody::Unread { ids: vec![id.to_owned()] }, now).await?;
    Ok(Some(Acted {
        response: MarkUnreadResponse { changed: true },
        changes: vec![(user_id.to_owned(), change)],
    }))
}

pub(super) async fn counts(c: &impl GenericClient, user_id: &str) -> DbResult<Counts> {
    let stmt = c
        .prepare_cached("SELECT category, count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL GROUP BY category")
        .await?;
    let mut rows: Vec<(i64, i64)> = Vec::new();
    for r in c.query(&stmt, &[&user_id]).await? {
        rows.push((col!(r, 0), col!(r, 1)));
    }
    let count =
        |c: Category| rows.iter().find(|(code, _)| *code == c.code()).map_or(0, |(_, n)| (*n).max(0) as u64);
    let categories: BTreeMap<Category, u64> = Category::ALL.iter().map(|c| (*c, count(*c))).collect();
    let tabs: BTreeMap<Tab, u64> =
        Tab::ALL.iter().map(|t| (*t, t.categories().iter().map(|c| count(*c)).sum())).collect();
    Ok(Counts { total: tabs.values().sum(), tabs, categories })
}
