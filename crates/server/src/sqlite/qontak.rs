//! Qontak on the server: webhook secrets (by hash), the links between users and Qontak agents, the
//! rooms' current state, the dead letters, and which CRM reads the CRM has been told of.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lonceng_domain::model::Notification;
use lonceng_domain::qontak::{LinkedUser, RoomState};
use lonceng_domain::time::to_ms;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::notifications::{apply_outcome, seen_event};
use super::writes::carry_out;
use super::{decode_err, from_ms};
use crate::db::plan::{self, Stored};
use crate::db::{
    AgentLink, Applied, DbError, DbResult, DeadLetter, NewDeadLetter, RoomJob, UserChange, WebhookSecret,
};

/// Dead letters kept at most; the oldest go first (a flood of garbage cannot fill the disk).
const MAX_DEAD_LETTERS: i64 = 10_000;

fn opt_time(v: Option<i64>) -> DbResult<Option<DateTime<Utc>>> {
    v.map(from_ms).transpose()
}

pub(super) fn webhook_secrets(c: &Connection) -> DbResult<Vec<WebhookSecret>> {
    let rows = c
        .prepare_cached(
            "SELECT id, hash, previous_hash, previous_until, created_at, rotated_at, last_used_at \
             FROM qontak_webhook_secrets ORDER BY created_at, id",
        )?
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<i64>>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, hash, previous_hash, until, created, rotated, used)| {
            Ok(WebhookSecret {
                id,
                hash,
                previous_hash,
                previous_until: opt_time(until)?,
                created_at: from_ms(created)?,
                rotated_at: opt_time(rotated)?,
                last_used_at: opt_time(used)?,
            })
        })
        .collect()
}

pub(super) fn put_webhook_secret(c: &Connection, s: &WebhookSecret) -> DbResult<()> {
    c.execute(
        "INSERT OR REPLACE INTO qontak_webhook_secrets \
         (id, hash, previous_hash, previous_until, created_at, rotated_at, last_used_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            s.id,
            s.hash,
            s.previous_hash,
            s.previous_until.map(to_ms),
            to_ms(s.created_at),
            s.rotated_at.map(to_ms),
            s.last_used_at.map(to_ms)
        ],
    )?;
    Ok(())
}

pub(super) fn link_agent(
    c: &mut Connection,
    user_id: &str,
    agent_id: Option<String>,
    crm_sso_id: Option<String>,
) -> DbResult<Option<AgentLink>> {
    let tx = c.transaction()?;
    let user: Option<(String, Option<String>)> = tx
        .query_row("SELECT name, email FROM users WHERE id = ?1", [user_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((name, email)) = user else { return Ok(None) };
    for (column, value) in [("agent_id", &agent_id), ("crm_sso_id", &crm_sso_id)] {
        let Some(value) = value else { continue };
        let other: Option<String> = tx
            .query_row(
                &format!("SELECT user_id FROM qontak_agents WHERE {column} = ?1 AND user_id <> ?2"),
                [value, user_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(other) = other {
            return Err(DbError::Conflict(format!("{column} '{value}' is linked to user '{other}' already")));
        }
    }
    if agent_id.is_none() && crm_sso_id.is_none() {
        tx.execute("DELETE FROM qontak_agents WHERE user_id = ?1", [user_id])?;
    } else {
        tx.execute(
            "INSERT OR REPLACE INTO qontak_agents (user_id, agent_id, crm_sso_id) VALUES (?1, ?2, ?3)",
            params![user_id, agent_id, crm_sso_id],
        )?;
    }
    tx.commit()?;
    Ok(Some(AgentLink { user_id: user_id.to_owned(), name, agent_id, crm_sso_id, email }))
}

pub(super) fn agent_links(c: &Connection) -> DbResult<Vec<AgentLink>> {
    Ok(c.prepare_cached(
        "SELECT q.user_id, u.name, q.agent_id, q.crm_sso_id, u.email FROM qontak_agents q \
         JOIN users u ON u.id = q.user_id ORDER BY q.user_id",
    )?
    .query_map([], |r| {
        Ok(AgentLink {
            user_id: r.get(0)?,
            name: r.get(1)?,
            agent_id: r.get(2)?,
            crm_sso_id: r.get(3)?,
            email: r.get(4)?,
        })
    })?
    .collect::<Result<Vec<_>, _>>()?)
}

fn room_state(tx: &Transaction<'_>, room_id: &str) -> DbResult<Option<RoomState>> {
    let json: Option<String> = tx
        .prepare_cached("SELECT state FROM qontak_rooms WHERE id = ?1")?
        .query_row([room_id], |r| r.get(0))
        .optional()?;
    json.map(|j| serde_json::from_str(&j).map_err(decode_err)).transpose()
}

/// The linked users of these agent ids.
fn linked(
    tx: &Transaction<'_>,
    agents: impl IntoIterator<Item = String>,
) -> DbResult<BTreeMap<String, LinkedUser>> {
    let mut stmt = tx.prepare_cached(
        "SELECT q.user_id, u.name FROM qontak_agents q JOIN users u ON u.id = q.user_id WHERE q.agent_id = ?1",
    )?;
    let mut out = BTreeMap::new();
    for agent in agents {
        if out.contains_key(&agent) {
            continue;
        }
        if let Some(user) =
            stmt.query_row([&agent], |r| Ok(LinkedUser { user_id: r.get(0)?, name: r.get(1)? })).optional()?
        {
            out.insert(agent, user);
        }
    }
    Ok(out)
}

pub(super) fn apply_rooms(
    c: &mut Connection,
    jobs: Vec<RoomJob>,
    now: DateTime<Utc>,
) -> DbResult<Vec<Result<Applied, String>>> {
    let tx = c.transaction()?;
    let out = jobs.into_iter().map(|job| apply_room(&tx, job, now)).collect::<DbResult<Vec<_>>>()?;
    tx.commit()?;
    Ok(out)
}

/// One room event inside the batch's transaction. `decide` runs before anything is written, so a
/// refused event writes nothing.
fn apply_room(tx: &Transaction<'_>, job: RoomJob, now: DateTime<Utc>) -> DbResult<Result<Applied, String>> {
    let RoomJob { key, room_id, agents, decide } = job;
    if let Some(seen) = seen_event(tx, &key)? {
        return Ok(Ok(seen));
    }
    let previous = room_state(tx, &room_id)?;
    let known = previous.iter().flat_map(|p| p.agent_ids.iter().cloned());
    let users = linked(tx, agents.into_iter().chain(known))?;
    let (state, outcome) = match decide(previous.as_ref(), &users) {
        Ok(decided) => decided,
        Err(reason) => return Ok(Err(reason)),
    };
    if let Some(state) = state {
        tx.prepare_cached("INSERT OR REPLACE INTO qontak_rooms (id, state) VALUES (?1, ?2)")?
            .execute(params![room_id, serde_json::to_string(&state).map_err(decode_err)?])?;
    }
    Ok(Ok(apply_outcome(tx, &key, outcome, now)?))
}

pub(super) fn room_recipients(c: &mut Connection, room_id: &str) -> DbResult<Option<Vec<String>>> {
    let tx = c.transaction()?;
    let Some(state) = room_state(&tx, room_id)? else { return Ok(None) };
    let users = linked(&tx, state.agent_ids.iter().cloned())?;
    Ok(Some(state.agent_ids.iter().filter_map(|a| users.get(a)).map(|u| u.user_id.clone()).collect()))
}

pub(super) fn add_dead_letter(c: &mut Connection, l: &NewDeadLetter) -> DbResult<(i64, bool)> {
    let tx = c.transaction()?;
    let seen: Option<i64> =
        tx.query_row("SELECT id FROM dead_letters WHERE key = ?1", [&l.key], |r| r.get(0)).optional()?;
    if let Some(id) = seen {
        return Ok((id, false));
    }
    let id: i64 = tx.query_row(
        "INSERT INTO dead_letters (source, key, received_at, reason, body) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![l.source, l.key, to_ms(l.at), l.reason, l.body],
        |r| r.get(0),
    )?;
    tx.execute("DELETE FROM dead_letters WHERE id <= ?1", [id.saturating_sub(MAX_DEAD_LETTERS)])?;
    tx.commit()?;
    Ok((id, true))
}

fn dead_letter_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, i64, String, String, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn to_dead_letter(
    (id, source, at, reason, body, replays): (i64, String, i64, String, String, i64),
) -> DbResult<DeadLetter> {
    Ok(DeadLetter { id, source, received_at: from_ms(at)?, reason, body, replays })
}

const DEAD_LETTER_COLUMNS: &str = "id, source, received_at, reason, body, replays";

pub(super) fn dead_letters(c: &Connection, limit: usize, before: Option<i64>) -> DbResult<Vec<DeadLetter>> {
    let rows = c
        .prepare_cached(&format!(
            "SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
        ))?
        .query_map(params![before.unwrap_or(i64::MAX), limit as i64], dead_letter_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(to_dead_letter).collect()
}

pub(super) fn dead_letter(c: &Connection, id: i64) -> DbResult<Option<DeadLetter>> {
    c.query_row(
        &format!("SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = ?1"),
        [id],
        dead_letter_row,
    )
    .optional()?
    .map(to_dead_letter)
    .transpose()
}

pub(super) fn settle_dead_letter(c: &Connection, id: i64, failed_again: Option<String>) -> DbResult<()> {
    match failed_again {
        None => c.execute("DELETE FROM dead_letters WHERE id = ?1", [id])?,
        Some(reason) => c.execute(
            "UPDATE dead_letters SET replays = replays + 1, reason = ?2 WHERE id = ?1",
            params![id, reason],
        )?,
    };
    Ok(())
}

/// Brings a poll of the CRM in, as `plan::crm_sync` decides from the items stored under its ids.
pub(super) fn crm_sync(
    c: &mut Connection,
    user_id: &str,
    items: Vec<Notification>,
    now: DateTime<Utc>,
) -> DbResult<Vec<UserChange>> {
    let tx = c.transaction()?;
    let stored = stored_items(&tx, &items)?;
    let changes = carry_out(&tx, plan::crm_sync(user_id, items, stored, now), now)?;
    tx.commit()?;
    Ok(changes)
}

/// The items stored under the polled ids, as `plan::crm_sync` needs them.
fn stored_items(tx: &Transaction<'_>, items: &[Notification]) -> DbResult<BTreeMap<String, Stored>> {
    let mut stmt = tx.prepare_cached(
        "SELECT n.user_id, n.read_at IS NOT NULL, coalesce(c.crm_read, 0) FROM notifications n \
         LEFT JOIN crm_items c ON c.id = n.id WHERE n.id = ?1",
    )?;
    let mut stored = BTreeMap::new();
    for n in items {
        if stored.contains_key(&n.id) {
            continue;
        }
        let row = stmt
            .query_row([&n.id], |r| Ok(Stored { owner: r.get(0)?, read: r.get(1)?, crm_read: r.get(2)? }))
            .optional()?;
        if let Some(s) = row {
            stored.insert(n.id.clone(), s);
        }
    }
    Ok(stored)
}

pub(super) fn crm_unsent_reads(c: &Connection, user_id: &str, limit: usize) -> DbResult<Vec<String>> {
    Ok(c.prepare_cached(
        "SELECT c.id FROM crm_items c JOIN notifications n ON n.id = c.id \
         WHERE c.user_id = ?1 AND c.crm_read = 0 AND n.read_at IS NOT NULL ORDER BY n.read_at LIMIT ?2",
    )?
    .query_map(params![user_id, limit as i64], |r| r.get(0))?
    .collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn crm_reads_sent(c: &mut Connection, ids: &[String]) -> DbResult<()> {
    let tx = c.transaction()?;
    for id in ids {
        tx.execute("UPDATE crm_items SET crm_read = 1 WHERE id = ?1", [id])?;
    }
    tx.commit()?;
    Ok(())
}
